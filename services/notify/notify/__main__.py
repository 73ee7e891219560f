from vipcore.runtime import serve

from .bootstrap import build
from .config import NotifySettings

settings = NotifySettings()  # type: ignore[call-arg]
serve(build(settings), settings)
