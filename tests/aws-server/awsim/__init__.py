"""The modules of tests/aws-server/aws_server.py (see README.md, "Layout")."""
