"""HTTP handlers: each turns a request into a call on the domain and back again."""
