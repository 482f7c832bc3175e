"""python3 -m errbot._matterbot PLUGIN.plug (with this package on the path)."""
import sys

from .transport import main

sys.exit(main())
