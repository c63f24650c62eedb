"""Online serving: the data plane every transport calls, and the services behind it.

Nothing is imported here on purpose: `import modelport.serving` stays cheap.
"""
