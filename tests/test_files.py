"""micrograd.files.write_atomically: a file holds its old contents or its new ones, never a mix.

Checkpoints, drawings, player pages and GIFs are all written by it; checkpoint
saves are tested further in test_checkpoint.py (kills included).
"""

from __future__ import annotations

import os
import stat

import pytest

from micrograd.files import write_atomically


def test_bytes_are_written_as_given_and_str_as_utf8(tmp_path, file_route):
    write_atomically(tmp_path / "a", b"\x00\xff")
    write_atomically(tmp_path / "b", "σ(x) 🙂")
    assert (tmp_path / "a").read_bytes() == b"\x00\xff"
    assert (tmp_path / "b").read_bytes() == "σ(x) 🙂".encode()


def test_an_interrupted_write_leaves_the_file_as_it_was_and_nothing_beside_it(
    tmp_path, file_route, monkeypatch
):
    path = tmp_path / "page.html"
    path.write_text("before")

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, b"after")
    assert path.read_text() == "before"
    assert [p.name for p in tmp_path.iterdir()] == ["page.html"]


def test_a_new_file_has_the_mode_open_would_give_it(tmp_path, file_route):
    write_atomically(tmp_path / "a", b"x")
    with open(tmp_path / "b", "wb"):
        pass
    assert (tmp_path / "a").stat().st_mode == (tmp_path / "b").stat().st_mode


def test_a_file_keeps_its_mode(tmp_path, file_route):
    path = tmp_path / "shared.svg"
    path.write_bytes(b"old")
    path.chmod(0o640)
    write_atomically(path, b"new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_a_symlink_stays_a_link_and_its_file_gets_the_contents(tmp_path, file_route):
    target, link = tmp_path / "real.svg", tmp_path / "link.svg"
    target.write_bytes(b"old")
    link.symlink_to(target)
    write_atomically(link, b"new")
    assert link.is_symlink() and target.read_bytes() == b"new"
