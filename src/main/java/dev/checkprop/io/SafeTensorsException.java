package dev.checkprop.io;

import java.io.IOException;

/**
 * A safetensors file (or a tensor in one) is malformed or not what the caller asked for. The
 * message always starts with the file's name and names the tensor, key or file offset concerned.
 *
 * <p>Checked, as an {@link IOException}, because bad input files are an expected condition that
 * callers must handle, not a programming error.
 */
public class SafeTensorsException extends IOException {

    private static final long serialVersionUID = 1L;

    /** An error whose message already names the file and what is wrong. */
    public SafeTensorsException(String message) {
        super(message);
    }

    /** As {@link #SafeTensorsException(String)}, keeping the underlying cause. */
    public SafeTensorsException(String message, Throwable cause) {
        super(message, cause);
    }
}
