"""Item-bank interchange: import GIFT, Moodle XML, QTI 2.1 and Canvas QTI 1.2; export QTI 2.1 and Moodle XML.

One module per format (`gift`, `moodle_xml`, `qti21`, `qti12`); `importer` maps parsed questions onto a
course and `bank` writes them all-or-nothing through the course validator; `exporter` writes them back out.
"""
