"""Put this folder first on PYTHONPATH to make a Python process behave as on a machine without
FFmpeg's shared libraries: every dlopen of a TorchCodec core library fails the way the dynamic
loader fails there, so TorchCodec imports but cannot build a decoder (TorchCodec >= 0.17)."""
import ctypes

_real_cdll_init = ctypes.CDLL.__init__


def _cdll_init(self, name, *args, **kwargs):
    if name and ("libtorchcodec_core" in str(name) or "libtorchcodec_custom_ops" in str(name)):
        raise OSError("libavutil.so.60: cannot open shared object file: No such file or directory")
    _real_cdll_init(self, name, *args, **kwargs)


ctypes.CDLL.__init__ = _cdll_init
