from vipcore.runtime import serve

from .bootstrap import build
from .config import LoyaltySettings

settings = LoyaltySettings()  # type: ignore[call-arg]
serve(build(settings), settings)
