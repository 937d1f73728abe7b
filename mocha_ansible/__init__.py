"""mocha-ansible: the 2016 Mocha-on-AWS tutorial as Ansible roles driven through ansible-runner."""

__version__ = "0.1.0"
