package dev.checkprop.plan;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses planner strings, as given to the command line: {@code full}, {@code uniform:K},
 * {@code sqrt}, {@code binomial:S}, {@code optimal:M}, {@code budget:BYTES},
 * {@code tiered:HEAP_BYTES[,offheap:BYTES][,disk:BYTES]}; and byte sizes
 * ({@link #parseBytes}, {@link #formatBytes}, {@link #humanBytes}).
 */
public final class Planners {

    private Planners() {
    }

    /** The planner strings this class accepts, for help and error messages. */
    public static final String SYNTAX = "full | uniform:K | sqrt | binomial:S | optimal:M | budget:BYTES"
            + " | tiered:HEAP_BYTES[,offheap:BYTES][,disk:BYTES]";

    /** The byte sizes {@link #parseBytes} accepts, for help and error messages. */
    public static final String BYTES_SYNTAX = "a number of bytes, optionally decimal, with an optional unit"
            + " B, KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. 64MiB or 1.5GB";

    private static final Pattern BYTES = Pattern.compile("(\\d+(?:\\.\\d*)?|\\.\\d+)\\s*([a-z]*)");
    private static final String[] UNITS = {"b", "kb", "mb", "gb", "tb", "kib", "mib", "gib", "tib"};
    private static final String[] UNIT_NAMES = {"B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"};
    private static final long[] UNIT_BYTES = {1, 1_000L, 1_000_000L, 1_000_000_000L, 1_000_000_000_000L,
            1L << 10, 1L << 20, 1L << 30, 1L << 40};

    /**
     * Answers the planner a string names. A {@code budget:BYTES} planner
     * {@linkplain Planner#needsChain() needs a chain}: plan it with {@link Planner#plan(Chain)}, not
     * {@link Planner#plan(int)}.
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
            case "budget": {
                if (arg == null || arg.isEmpty()) {
                    throw new IllegalArgumentException("plan '" + spec + "' needs a parameter BYTES (expected " + SYNTAX + ")");
                }
                final long bytes;
                try {
                    bytes = parseBytes(spec.trim().substring(colon + 1)); // the user's spelling, for messages
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("plan '" + spec + "': " + e.getMessage(), e);
                }
                if (bytes < 1) {
                    throw new IllegalArgumentException("plan '" + spec + "': the budget must be at least 1 byte");
                }
                return new BudgetPlanner(bytes);
            }
            case "tiered":
                return tiered(spec, colon < 0 ? "" : spec.trim().substring(colon + 1), arg);
            default:
                throw new IllegalArgumentException("unknown plan '" + spec + "' (expected " + SYNTAX + ")");
        }
    }

    /** {@code tiered:HEAP_BYTES[,offheap:BYTES][,disk:BYTES]}, {@code given} as the user spelled it. */
    private static TieredPlanner tiered(String spec, String given, String arg) {
        if (arg == null || arg.isEmpty()) {
            throw new IllegalArgumentException("plan '" + spec + "' needs a parameter HEAP_BYTES (expected " + SYNTAX + ")");
        }
        final String[] parts = given.split(",", -1);
        final long heap;
        try {
            heap = parseBytes(parts[0]);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("plan '" + spec + "': the heap budget: " + e.getMessage(), e);
        }
        if (heap < 1) {
            throw new IllegalArgumentException("plan '" + spec + "': the heap budget must be at least 1 byte");
        }
        final java.util.EnumMap<Tier, Long> caps = new java.util.EnumMap<>(Tier.class);
        for (int i = 1; i < parts.length; i++) {
            final int c = parts[i].indexOf(':');
            if (c < 0) {
                throw new IllegalArgumentException("plan '" + spec + "': '" + parts[i].trim()
                        + "' is not TIER:BYTES (expected offheap:BYTES or disk:BYTES, e.g. disk:8GiB)");
            }
            final Tier tier;
            try {
                tier = Tier.parse(parts[i].substring(0, c).trim());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("plan '" + spec + "': " + e.getMessage(), e);
            }
            if (caps.containsKey(tier)) {
                throw new IllegalArgumentException("plan '" + spec + "': tier " + tier.text() + " is named twice");
            }
            try {
                caps.put(tier, parseBytes(parts[i].substring(c + 1)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("plan '" + spec + "': the capacity of " + tier.text() + ": "
                        + e.getMessage(), e);
            }
        }
        return new TieredPlanner(heap, caps);
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

    /**
     * Answers the bytes a size string names: a non-negative number, optionally with a fraction, and
     * an optional unit, case-insensitive, with optional spaces between: {@code B}, {@code KB},
     * {@code MB}, {@code GB}, {@code TB} (10<sup>3</sup>, 10<sup>6</sup>, &hellip;) and {@code KiB},
     * {@code MiB}, {@code GiB}, {@code TiB} (2<sup>10</sup>, 2<sup>20</sup>, &hellip;). Examples:
     * {@code 4096}, {@code 64MiB}, {@code 1.5GiB} (1,610,612,736), {@code 2.5kb} (2,500).
     *
     * @throws IllegalArgumentException naming the string: not a size, an unknown unit, a fraction of
     *                                  a byte, or more than {@link Long#MAX_VALUE} bytes
     */
    public static long parseBytes(String text) {
        final String s = text.trim().toLowerCase(Locale.ROOT);
        final Matcher m = BYTES.matcher(s);
        if (!m.matches()) {
            throw new IllegalArgumentException("bytes '" + text + "': not a size (expected " + BYTES_SYNTAX + ")");
        }
        long unit = -1;
        final String u = m.group(2);
        final String given = text.trim().substring(m.start(2), m.end(2)); // as typed, for the message
        if (u.isEmpty()) {
            unit = 1;
        }
        for (int i = 0; i < UNITS.length && unit < 0; i++) {
            if (UNITS[i].equals(u)) {
                unit = UNIT_BYTES[i];
            }
        }
        if (unit < 0) {
            throw new IllegalArgumentException("bytes '" + text + "': unknown unit '" + given
                    + "' (expected B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)");
        }
        final BigDecimal value = new BigDecimal(m.group(1).endsWith(".") ? m.group(1) + "0" : m.group(1))
                .multiply(BigDecimal.valueOf(unit));
        final BigDecimal whole;
        try {
            whole = value.setScale(0, java.math.RoundingMode.UNNECESSARY);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException("bytes '" + text + "': " + value.stripTrailingZeros().toPlainString()
                    + " is not a whole number of bytes");
        }
        if (whole.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException("bytes '" + text + "': more than " + Long.MAX_VALUE + " bytes");
        }
        return whole.longValueExact();
    }

    /**
     * Answers a size in the shortest exact form {@link #parseBytes} reads back: {@code 64MiB},
     * {@code 64MB}, {@code 192KiB}, {@code 1000001}; binary units win ties, and below 1024 it is
     * always plain bytes ({@code 1000}).
     */
    public static String formatBytes(long bytes) {
        String best = Long.toString(bytes);
        if (Math.abs(bytes) >= 1024) {
            // TiB .. KiB first, then TB .. KB: a later form must be strictly shorter to win.
            final int[] order = {8, 7, 6, 5, 4, 3, 2, 1};
            String pick = null;
            for (int i : order) {
                if (bytes % UNIT_BYTES[i] == 0) {
                    final String form = bytes / UNIT_BYTES[i] + UNIT_NAMES[i];
                    if (pick == null || form.length() < pick.length()) {
                        pick = form;
                    }
                }
            }
            if (pick != null && pick.length() <= best.length()) {
                best = pick;
            }
        }
        return best;
    }

    /**
     * Answers a size for people, in binary units with one decimal: {@code 512 B}, {@code 192.0 KiB},
     * {@code 1.5 GiB}.
     */
    public static String humanBytes(long bytes) {
        if (Math.abs(bytes) < 1024) {
            return bytes + " B";
        }
        final String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int u = -1;
        while (Math.abs(v) >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
