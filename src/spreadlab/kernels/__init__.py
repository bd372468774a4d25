"""Numba hot paths: arrays and scalars in, arrays out; no I/O, no classes.

Every kernel ``foo`` has a plain-Python twin ``foo_py`` that tests compare
against on random inputs.
"""
