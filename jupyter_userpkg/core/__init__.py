"""The core of jupyter-userpkg: no tornado, jupyter_server or IPython in here.

Front ends reach it through the command layer, which calls
:class:`jupyter_userpkg.core.service.UserPkgService`.  Importing this package
imports nothing else, so a front end pays only for the modules it uses.
"""
