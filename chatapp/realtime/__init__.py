"""The realtime layer's foundation: whom a broadcast goes to, who is online, and sending after the commit.

Below the services (which say what to announce) and the socket handlers (chatapp/sockets/),
above nothing of the app but its extensions: no module here imports a service, a model, a
view or a handler (docs/architecture.md, "Layers").
"""
