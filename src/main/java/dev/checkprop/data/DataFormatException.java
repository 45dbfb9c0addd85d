package dev.checkprop.data;

import java.io.IOException;

/**
 * A data file is malformed. The message starts with the file's name and says where: the line (and
 * column) of a CSV file, or the byte offset in an IDX file.
 *
 * <p>Checked, as an {@link IOException}, because a bad input file is an expected condition that
 * callers must handle, not a programming error. (Not to be confused with
 * {@code java.util.zip.DataFormatException}, which is unrelated.)
 */
public class DataFormatException extends IOException {

    private static final long serialVersionUID = 1L;

    /** An error whose message already names the file and the place in it. */
    public DataFormatException(String message) {
        super(message);
    }

    /** As {@link #DataFormatException(String)}, keeping the underlying cause. */
    public DataFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
