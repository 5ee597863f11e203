"""Evidence for log.html: figures beside thresholds, HTML tables, SVG charts.

Renders what other layers measured; may import ``stats`` and the result types of
``client``, ``probes``, ``streams`` and ``flapping``, never a component."""
