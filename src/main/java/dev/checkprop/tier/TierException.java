package dev.checkprop.tier;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * A copy to or from a tier failed (a full disk, an I/O error): names the tier, where, which state and
 * the cause. The run it happened in produced no result; the executor that met it answers it again on
 * every later call, because a state it was to hold may be missing.
 */
public final class TierException extends UncheckedIOException {

    private static final long serialVersionUID = 1L;

    TierException(String message, IOException cause) {
        super(message, cause);
    }
}
