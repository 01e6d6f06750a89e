"""Jupyter's widget for step_through: Prev / Next buttons and a slider over the frames.

It needs ipywidgets (`pip install "micrograd[widgets]"`), imported only when a
widget is made.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for the type hint: frames imports this module
    from micrograd.viz.frames import StepThrough

__all__ = ["step_widget"]


def step_widget(frames: StepThrough) -> Any:
    """Prev / Next buttons and a slider over `frames` (an ipywidgets.VBox).

    Frames are rendered when first shown, so it opens at once for any size.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        raise ImportError(
            'step_through\'s buttons need ipywidgets: pip install "micrograd[widgets]"'
        ) from None
    last = len(frames) - 1
    slider = widgets.IntSlider(
        value=0, min=0, max=last, description="frame", continuous_update=False
    )
    previous = widgets.Button(description="◀ Prev", tooltip="the frame before")
    following = widgets.Button(description="Next ▶", tooltip="the next step")
    caption = widgets.HTML()
    picture = widgets.HTML()

    def show(_change=None) -> None:
        k = slider.value
        caption.value = f"<pre>{html.escape(frames.caption(k))}</pre>"
        picture.value = frames.frame_html(k)
        previous.disabled = k == 0
        following.disabled = k == last

    def go(delta: int) -> None:
        slider.value = min(last, max(0, slider.value + delta))

    slider.observe(show, names="value")
    previous.on_click(lambda _button: go(-1))
    following.on_click(lambda _button: go(+1))
    show()
    return widgets.VBox([widgets.HBox([previous, slider, following]), caption, picture])
