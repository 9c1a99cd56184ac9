"""What every ``evovideo`` subcommand shares: the ``--backend`` flag, renamed flags and values, and
one-line user errors."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from types import TracebackType

import evovideo
from evovideo.data.decode import BACKENDS, resolve_backend

PACKAGE_DIR = Path(evovideo.__file__).resolve().parent


def _backend(name: str) -> str:
    """An explicit decoder is checked while the command line is read: a decoder that cannot
    decode here fails before any work, not after pretraining or feature extraction."""
    if name not in BACKENDS:
        raise argparse.ArgumentTypeError(f"unknown decoder '{name}'; choose from {', '.join(BACKENDS)}")
    if name != "auto":
        resolve_backend(name)  # DecoderUnavailable names the missing library and the way out
    return name


def add_backend_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend", type=_backend, default="auto", metavar="{" + ",".join(BACKENDS) + "}",
        help="video decoder (default auto: TorchCodec when it can really decode here, else PyAV; "
             "`evovideo doctor` says which and why)")


class _Renamed(argparse.Action):
    """A hidden old spelling of a flag: stores into the new flag's destination and says the new name."""

    def __init__(self, option_strings: list[str], dest: str, new: str = "", **kwargs) -> None:
        self.new = new
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"evovideo: {option_string} is now {self.new}; the old name will be removed", file=sys.stderr)
        setattr(namespace, self.dest, values)


def add_renamed(parser: argparse.ArgumentParser, old: str, new: str) -> None:
    """Accept ``old`` as a hidden alias of the already-added flag ``new`` (same type, choices, nargs)."""
    target = next(a for a in parser._actions if new in a.option_strings)
    parser.add_argument(old, action=_Renamed, new=new, dest=target.dest, type=target.type, choices=target.choices,
                        nargs=target.nargs, metavar=target.metavar)


def renamed_values(renames: dict[str, str], flag: str):
    """An argparse ``type`` that maps old values of ``flag`` to their new names, saying so."""
    def convert(value: str) -> str:
        if value in renames:
            print(f"evovideo: {flag} '{value}' is now '{renames[value]}'", file=sys.stderr)
            return renames[value]
        return value
    return convert


def strip_prefix(value: str, prefix: str) -> str:
    """``value`` without ``prefix`` (``local-dir:`` / ``hf-hub:``), so a flag takes both spellings."""
    return value[len(prefix):] if value.startswith(prefix) else value


def _user_error_types() -> tuple[type[BaseException], ...]:
    """Errors that are the user's input or machine, not a bug of ours: shown as one line."""
    from evovideo.data.dataset import NoVideosDecoded
    from evovideo.data.decode import DecodeError, DecoderUnavailable
    from evovideo.hub.io import PretrainedLoadError
    from evovideo.models.zoo import WeightsNotPublishedError

    types: list[type[BaseException]] = [ValueError, LookupError, OSError, ImportError, DecodeError, DecoderUnavailable,
                                        NoVideosDecoded, PretrainedLoadError, WeightsNotPublishedError]
    for module, name in (("lightning_fabric.utilities.exceptions", "MisconfigurationException"),
                         ("huggingface_hub.errors", "HfHubHTTPError"),
                         ("huggingface_hub.errors", "OfflineModeIsEnabled"),
                         ("httpx", "TransportError"),
                         ("safetensors", "SafetensorError")):
        try:
            types.append(getattr(__import__(module, fromlist=[name]), name))
        except (ImportError, AttributeError):
            pass
    return tuple(types)


def _raised_by_us(tb: TracebackType | None) -> bool:
    """True when the frame that raised is evovideo's own code (its message is written for users)."""
    last = None
    while tb is not None:
        last, tb = tb, tb.tb_next
    return last is not None and Path(last.tb_frame.f_code.co_filename).resolve().is_relative_to(PACKAGE_DIR)


def _message(err: BaseException, ours: bool) -> str:
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    text = " ".join(text.split())  # one line, whatever the library wrapped it in
    return text if ours and text else f"{type(err).__name__}: {text}"


def user_error(err: BaseException) -> str | None:
    """The one line to show for ``err`` (an exception chain), or None when it is a bug to show in
    full.  Prefers the outermost message evovideo itself raised in the chain (jsonargparse and
    Lightning wrap ours), else the outermost user error."""
    types = _user_error_types()
    chain, seen = [], err
    while seen is not None and len(chain) < 20:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    ours = [e for e in chain if isinstance(e, types) and _raised_by_us(e.__traceback__)]
    if ours:
        return _message(ours[0], ours=True)
    theirs = [e for e in chain if isinstance(e, types)]
    return _message(theirs[0], ours=False) if theirs else None


def show_tracebacks() -> bool:
    return bool(os.environ.get("EVOVIDEO_TRACEBACK"))
