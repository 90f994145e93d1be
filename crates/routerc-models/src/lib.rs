//! Model runtime (in progress).
