from vipcore.runtime import serve

from .bootstrap import build
from .config import ConsoleSettings

settings = ConsoleSettings()  # type: ignore[call-arg]
serve(build(settings), settings)  # type: ignore[arg-type]
