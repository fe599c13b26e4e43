import sys

from askrl.serve import main

sys.exit(main())
