"""The Werkmaatje gateway: channels in, Rasa in the middle, replies out."""
