import sys

from updraft.runner.main import main

sys.exit(main())
