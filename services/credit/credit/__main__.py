from vipcore.runtime import serve

from .bootstrap import build
from .config import CreditSettings

settings = CreditSettings()  # type: ignore[call-arg]
serve(build(settings), settings)
