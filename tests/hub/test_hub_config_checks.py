"""config.json is validated on load: each bad field is one error naming the file, field and rule."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from evovideo.hub import CONFIG_NAME, WEIGHTS_NAME, PretrainedLoadError, load_pretrained, save_pretrained
from evovideo.factory import create_model

BAD = [
    (("input_config", "num_frames"), "eight", "input_config.num_frames = 'eight': must be an integer >= 1"),
    (("input_config", "size"), -32, "input_config.size = -32: must be an integer >= 1"),
    (("input_config", "stride"), 0, "input_config.stride = 0: must be an integer >= 1"),
    (("input_config", "mean"), "abc", "input_config.mean = 'abc': must be a list of 3 numbers"),
    (("input_config", "std"), [0.2, 0.0, 0.2], "input_config.std = [0.2, 0.0, 0.2]: must be a list of 3 numbers"),
    (("input_config", "modality"), "flow", "input_config.modality = 'flow': must be 'rgb': test_r2plus1d is a rgb"),
    (("num_classes",), -5, "num_classes = -5: must be an integer >= 0"),
    (("format_version",), "abc", "format_version = 'abc': must be an integer (this evovideo writes 1)"),
]


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    save_pretrained(create_model("test_r2plus1d"), tmp_path)
    return tmp_path


@pytest.mark.parametrize("keys,value,message", BAD, ids=[".".join(k) for k, _, _ in BAD])
def test_bad_config_field_is_named_with_the_file(saved, keys, value, message):
    path = saved / CONFIG_NAME
    config = json.loads(path.read_text())
    node = config
    for key in keys[:-1]:
        node = node[key]
    node[keys[-1]] = value
    path.write_text(json.dumps(config))
    with pytest.raises(PretrainedLoadError) as err:
        load_pretrained(saved)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value), str(err.value)


@pytest.mark.parametrize("dtype", [torch.float16, torch.int32])
def test_float_weights_of_another_dtype_are_refused(saved, dtype):
    weights = saved / WEIGHTS_NAME
    state = load_file(str(weights))
    key = next(k for k, v in state.items() if v.is_floating_point())
    state[key] = state[key].to(dtype)
    save_file(state, str(weights))
    with pytest.raises(PretrainedLoadError, match=f"float weights stored with another dtype.*{key}: torch.{str(dtype)[6:]}"):
        load_pretrained(saved)
