from vipcore.runtime import serve

from .bootstrap import build
from .config import MembersSettings

settings = MembersSettings()  # type: ignore[call-arg]
serve(build(settings), settings)
