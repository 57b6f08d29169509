"""The review UI's handlers, one module per URL group, all on `humortune.feedback.router.router`.

`_shared` holds the module-level router, its one dependency (`review`: the app's `ReviewContext`) and the
helpers the groups share; importing `humortune.feedback.router` registers every group.
"""
