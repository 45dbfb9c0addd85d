package dev.checkprop.bench;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Plan strings whose parameter may be relative to the network, so that one JMH {@code @Param} list
 * serves every depth.
 *
 * <p>A benchmark's {@code plan} parameter is a library plan string ({@code full}, {@code uniform:K},
 * {@code sqrt}, {@code binomial:S}, {@code optimal:M}, and whatever {@code Planners.parse} learns
 * later) whose argument after the colon is either taken as it is, or — when it has the form
 * {@code [c]BASE[/d]} — computed for the network at hand as {@code ceil(c * BASE / d)}:
 * <table>
 *   <caption>bases</caption>
 *   <tr><th>BASE</th><th>value</th><th>example</th></tr>
 *   <tr><td>{@code L}</td><td>the depth</td><td>{@code uniform:L/4} is uniform:256 at L = 1024</td></tr>
 *   <tr><td>{@code sqrtL}</td><td>&lceil;&radic;L&rceil; (the K of {@code sqrt})</td>
 *       <td>{@code optimal:2sqrtL} is optimal:64 at L = 1024, optimal:16 at L = 64</td></tr>
 *   <tr><td>{@code fullBytes}</td><td>the peak activation bytes of full storage,
 *       4 &middot; L &middot; width &middot; batch</td><td>{@code budget:fullBytes/8}, for a byte-budget planner</td></tr>
 * </table>
 * Anything else ({@code binomial:8}, {@code budget:1048576}, a planner with no argument) is passed
 * through unchanged, so a new plan string in the library is only a {@code @Param} change here. A
 * relative argument that resolves below 1 is an error, and the library's own checks (e.g. optimal's
 * minimum of 2 buffers) still apply to the resolved string.
 */
public final class PlanSpec {

    private static final Pattern RELATIVE = Pattern.compile("(\\d+)?(L|sqrtL|fullBytes)(?:/(\\d+))?");

    private PlanSpec() {
    }

    /**
     * Answers {@code spec} with a relative argument replaced by its value for a chain of
     * {@code layers} dense layers of {@code width} units and a batch of {@code batch} samples.
     *
     * @throws IllegalArgumentException if a relative argument resolves below 1 or divides by 0
     */
    public static String resolve(String spec, int layers, int width, int batch) {
        String s = spec.trim();
        int colon = s.indexOf(':');
        if (colon < 0) {
            return s;
        }
        String arg = s.substring(colon + 1);
        Matcher m = RELATIVE.matcher(arg);
        if (!m.matches()) {
            return s;
        }
        long c = m.group(1) == null ? 1 : Long.parseLong(m.group(1));
        long d = m.group(3) == null ? 1 : Long.parseLong(m.group(3));
        if (d == 0) {
            throw new IllegalArgumentException("plan '" + spec + "': division by 0");
        }
        long base = switch (m.group(2)) {
            case "L" -> layers;
            case "sqrtL" -> ceilSqrt(layers);
            case "fullBytes" -> 4L * layers * width * batch;
            default -> throw new AssertionError(m.group(2));
        };
        long value = Math.floorDiv(Math.multiplyExact(c, base) + d - 1, d);
        if (value < 1) {
            throw new IllegalArgumentException("plan '" + spec + "' resolves to " + value + " at L=" + layers
                    + " (needs >= 1)");
        }
        return s.substring(0, colon + 1) + value;
    }

    /** True if {@code spec}'s argument is relative (it would change with the network). */
    public static boolean isRelative(String spec) {
        String s = spec.trim();
        int colon = s.indexOf(':');
        return colon >= 0 && RELATIVE.matcher(s.substring(colon + 1)).matches();
    }

    /** The planner's family, the text before the colon ({@code "optimal"} for {@code optimal:2sqrtL}). */
    public static String family(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        int colon = s.indexOf(':');
        return colon < 0 ? s : s.substring(0, colon);
    }

    /** The smallest k with k*k &ge; n, exactly as the library's {@code sqrt} planner chooses K. */
    static long ceilSqrt(long n) {
        long k = (long) Math.sqrt((double) n);
        while (k * k < n) {
            k++;
        }
        while (k > 1 && (k - 1) * (k - 1) >= n) {
            k--;
        }
        return Math.max(k, 1);
    }
}
