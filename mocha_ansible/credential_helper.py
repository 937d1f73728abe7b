"""credential_process helper: print the credentials served on a Unix socket.

Run by botocore inside Ansible's modules, never by hand. It prints the JSON that
the AWS CLI's credential_process contract expects and nothing else.
"""

import socket
import sys


def main() -> int:
    if len(sys.argv) != 2:
        sys.stderr.write("usage: credential_helper.py SOCKET\n")
        return 2
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(sys.argv[1])
        except OSError as exc:
            sys.stderr.write(f"mocha-ansible credential helper: the run that served credentials is gone ({exc})\n")
            return 1
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    sys.stdout.write(b"".join(chunks).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
