from seattui.cli import main

raise SystemExit(main())
