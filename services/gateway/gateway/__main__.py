from vipcore.runtime import serve

from .bootstrap import build
from .config import GatewaySettings

settings = GatewaySettings()  # type: ignore[call-arg]
serve(build(settings), settings)
