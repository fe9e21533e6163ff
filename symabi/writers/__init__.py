"""Writers render the plain result data; each output format is one module."""
