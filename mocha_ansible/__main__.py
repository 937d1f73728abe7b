from mocha_ansible.cli import main

raise SystemExit(main())
