"""A tower that no active term reads is dropped with a warning, not silently."""
from __future__ import annotations

import logging

from evovideo.tasks.plan import make_plan


def test_unused_tower_is_dropped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        plan = make_plan("test_r2plus1d", {"flow": "test_flow", "gray": "test_gray"},
                         {"rgb/reconstruction": 1.0, "flow/arrow_of_time": 0.0}, {"gray:layer3": 0.5}, {})
    assert set(plan.encoder_names) == {"rgb", "gray"}
    message = " ".join(r.getMessage() for r in caplog.records)
    assert "towers flow: test_flow: no task or distill term with a weight > 0 reads flow" in message
    assert "gray" not in message.split("reads")[1]


def test_used_towers_give_no_warning(caplog):
    with caplog.at_level(logging.WARNING):
        make_plan("test_r2plus1d", {"flow": "test_flow"}, {"flow/arrow_of_time": 1.0}, {}, {})
    assert not caplog.records
