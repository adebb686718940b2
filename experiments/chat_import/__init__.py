"""Import a WhatsApp chat export and calibrate a case to it (``python -m experiments.import_chat``).

The pipeline, one module per step, data flowing one way (docs/chat_import.md):

- ``parse``: read the ``.txt``/``.zip`` in memory, parse with whatstk's header detection, pseudonymise
  names and phone numbers at once;
- ``classify``: each message into one of the model's kinds (``sim.chat.MESSAGE_KINDS``) by documented
  Dutch and English rules; the text is dropped after this step;
- ``statistics``: the group's own statistics, computed the same way for an export and for a model run;
- ``calibrate``: a case fitted to those statistics by ABC-SMC (pyabc), written as ``conf/case/<name>.yaml``
  with a report.
"""
