"""Streamlit-side helpers shared by the pages (language, errors, sidebar, state, navigation).

Everything that touches ``st`` lives here or in ``pages/``; ``mlcore`` never imports streamlit.
"""

import os

# The server process runs small torch computations for the course pages (a 2-point scan, a 4x4
# autograd example). With torch's default of one thread per core they fight the other sessions'
# script threads and the training workers for the same two cores: one scan took 1-40 ms with two
# threads on a busy machine against 0.7-0.8 ms with one. Set before torch is first imported.
os.environ.setdefault("OMP_NUM_THREADS", "1")
