"""Task pod manifests (pure): names, labels, security context, AWS web-identity wiring."""
