import sys

if sys.argv[1:2] == ["staff"]:  # operator commands: python -m members staff create-admin ...
    from .cli_staff import main

    sys.exit(main(sys.argv[2:]))

from vipcore.runtime import serve

from .bootstrap import build
from .config import MembersSettings

settings = MembersSettings()  # type: ignore[call-arg]
serve(build(settings), settings)
