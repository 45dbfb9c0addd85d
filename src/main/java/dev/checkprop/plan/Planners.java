package dev.checkprop.plan;

import java.util.Locale;

/**
 * Parses planner strings, as given to the command line: {@code full}, {@code uniform:K},
 * {@code sqrt}, {@code binomial:S}, {@code optimal:M}.
 */
public final class Planners {

    private Planners() {
    }

    /** The planner strings this class accepts, for help and error messages. */
    public static final String SYNTAX = "full | uniform:K | sqrt | binomial:S | optimal:M";

    /**
     * Answers the planner a string names.
     *
     * @throws IllegalArgumentException naming the string and the accepted forms
     */
    public static Planner parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        int colon = s.indexOf(':');
        String kind = colon < 0 ? s : s.substring(0, colon);
        String arg = colon < 0 ? null : s.substring(colon + 1);
        switch (kind) {
            case "full":
                noArg(spec, arg);
                return new FullStoragePlanner();
            case "sqrt":
                noArg(spec, arg);
                return new SqrtPlanner();
            case "uniform":
                return new UniformPlanner(intArg(spec, arg, "K"));
            case "binomial":
                return new BinomialPlanner(intArg(spec, arg, "S"));
            case "optimal":
                return new OptimalPlanner(intArg(spec, arg, "M"));
            default:
                throw new IllegalArgumentException("unknown plan '" + spec + "' (expected " + SYNTAX + ")");
        }
    }

    private static void noArg(String spec, String arg) {
        if (arg != null) {
            throw new IllegalArgumentException("plan '" + spec + "' takes no parameter (expected " + SYNTAX + ")");
        }
    }

    private static int intArg(String spec, String arg, String what) {
        if (arg == null || arg.isEmpty()) {
            throw new IllegalArgumentException("plan '" + spec + "' needs a parameter " + what + " (expected " + SYNTAX + ")");
        }
        try {
            return Integer.parseInt(arg);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("plan '" + spec + "': " + what + " must be an integer, got '" + arg + "'");
        }
    }
}
