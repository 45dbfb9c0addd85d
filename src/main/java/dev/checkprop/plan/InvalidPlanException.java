package dev.checkprop.plan;

/** A sequence of actions that breaks the memory model; names the action and the reason. */
public final class InvalidPlanException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final int index;

    InvalidPlanException(String planName, int index, Plan.Action action, String reason) {
        super("invalid plan " + planName + ": action #" + index + " (" + action + ") " + reason);
        this.index = index;
    }

    InvalidPlanException(String planName, String reason) {
        super("invalid plan " + planName + ": " + reason);
        this.index = -1;
    }

    /** Answers the index of the offending action, or -1 when the plan as a whole is incomplete. */
    public int index() {
        return index;
    }
}
