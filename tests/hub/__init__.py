"""A real JupyterHub on loopback: users, their servers and kernels, through the proxy."""
