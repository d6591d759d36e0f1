"""Listening to attacks: model images back to audio, and the paths through audio.

Modules:

- :mod:`~specnb.listening.reconstruction` -- a (perturbed) model image back to a waveform.
- :mod:`~specnb.listening.black_box` -- the black-box path: image -> audio -> representation ->
model.
- :mod:`~specnb.listening.cross` -- the cross-representation path over many examples.
- :mod:`~specnb.listening.attack_audio` -- hearing an attack suite's kept adversarial images.
"""
