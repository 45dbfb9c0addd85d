package dev.checkprop.memory;

import org.openjdk.jol.vm.VM;
import org.openjdk.jol.vm.VirtualMachine;

import java.util.Locale;
import java.util.Optional;

/**
 * How the running JVM lays out primitive arrays: the array base offset (header) and the object
 * alignment. Nothing is hard-coded, so predictions follow the VM's mode (compressed class pointers or
 * compact object headers on or off, {@code -XX:ObjectAlignmentInBytes}).
 *
 * <p>On a 64-bit HotSpot VM (OpenJDK, Temurin, Oracle, GraalVM's JIT mode) the layout is computed
 * from the VM's own options, read through the HotSpot diagnostic MXBean
 * ({@code com.sun.management.HotSpotDiagnosticMXBean}): {@code ObjectAlignmentInBytes},
 * {@code UseCompressedClassPointers} and, from JDK 24, {@code UseCompactObjectHeaders}. An array's
 * header is its mark word (8 bytes), its class pointer (4 bytes compressed, 8 not, none with compact
 * headers) and its length (4 bytes); its elements start at the header rounded up to 8 bytes before
 * JDK 23 and to the element size from JDK 23 on (JDK-8139457, "Relax alignment of array elements").
 * This reads nothing internal, starts no agent and prints nothing; the tests check that it equals what
 * JOL reports under several VM modes ({@code ArrayLayoutTest}).
 *
 * <p>On any other VM it falls back to JOL's {@code VM.current()}, which takes about half a second and
 * prints its own warnings (JOL writes them to standard output; JDK 24 and later add their
 * {@code sun.misc.Unsafe} deprecation warnings on standard error). Those streams are never swapped:
 * a library must not take over the process's console. JOL's object-graph walk
 * ({@link MemoryReport#measure}, {@code grad --jol}) starts JOL in the same way, with the same
 * output, whatever VM it runs on; its Serviceability Agent attach, which takes two seconds and only
 * refines details checkprop does not use, is skipped unless the user set
 * {@code jol.skipHotspotSAAttach} themselves (this class sets the property when it is first used).
 */
public final class ArrayLayout {

    private static final String SKIP_SA = "jol.skipHotspotSAAttach";

    private final long floatBase;
    private final long intBase;
    private final long alignment;
    private final String details;
    /** G1 region size when this layout rounds humongous arrays up to whole regions; 0 for exact sizes. */
    private final long region;

    private ArrayLayout(long floatBase, long intBase, long alignment, String details) {
        this.floatBase = floatBase;
        this.intBase = intBase;
        this.alignment = alignment;
        this.details = details;
        this.region = 0;
    }

    private ArrayLayout(ArrayLayout exact, long region) {
        this.floatBase = exact.floatBase;
        this.intBase = exact.intBase;
        this.alignment = exact.alignment;
        this.details = exact.details;
        this.region = region;
    }

    /**
     * Answers the layout of what arrays cost the <em>heap</em>, as opposed to their size: under the G1
     * collector an array of at least half a region is "humongous" and occupies whole regions
     * (a 655 KB activation buffer takes a 1 MiB region in a 256 MiB heap). Budgets that must fit
     * under {@code -Xmx} use this layout; JOL comparisons use {@link #current()}. Without G1, or when
     * the VM does not say, it is the exact layout.
     *
     * @return this layout, or one that rounds humongous arrays up to whole G1 regions
     */
    public ArrayLayout heapFootprint() {
        long r = g1RegionSize();
        return r > 0 ? new ArrayLayout(this, r) : this;
    }

    private static long g1RegionSize() {
        try {
            var bean = diagnosticBean();
            if (bean == null || !Boolean.parseBoolean(bean.getVMOption("UseG1GC").getValue())) {
                return 0;
            }
            return Long.parseLong(bean.getVMOption("G1HeapRegionSize").getValue());
        } catch (RuntimeException | LinkageError e) {
            return 0;
        }
    }

    private static com.sun.management.HotSpotDiagnosticMXBean diagnosticBean() {
        return java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
    }

    private static final class Holder {
        static final ArrayLayout CURRENT = load();
    }

    /**
     * Answers the layout of this JVM, computed once (see the class comment for how).
     *
     * @return the layout of the running JVM
     */
    public static ArrayLayout current() {
        return Holder.CURRENT;
    }

    private static ArrayLayout load() {
        if (System.getProperty(SKIP_SA) == null) {
            System.setProperty(SKIP_SA, "true");
        }
        return fromVmOptions().orElseGet(ArrayLayout::fromJol);
    }

    /**
     * The layout computed from the VM's options, or empty when this is not a 64-bit HotSpot VM that
     * answers them. Package-private for the test that compares it with JOL's.
     */
    static Optional<ArrayLayout> fromVmOptions() {
        try {
            String vmName = System.getProperty("java.vm.name", "");
            if (!"64".equals(System.getProperty("sun.arch.data.model"))
                    || !(vmName.contains("HotSpot") || vmName.contains("OpenJDK"))) {
                return Optional.empty();
            }
            var bean = diagnosticBean();
            if (bean == null) {
                return Optional.empty();
            }
            long alignment = Long.parseLong(bean.getVMOption("ObjectAlignmentInBytes").getValue());
            boolean compact = flag(bean, "UseCompactObjectHeaders").orElse(false); // JDK 24 and later
            Optional<Boolean> classPointers = flag(bean, "UseCompressedClassPointers");
            if (alignment <= 0 || Long.bitCount(alignment) != 1 || (!compact && classPointers.isEmpty())) {
                return Optional.empty();
            }
            // Mark word, class pointer (inside the mark word with compact headers), length.
            long header = compact ? 8 + 4 : classPointers.get() ? 8 + 4 + 4 : 8 + 8 + 4;
            boolean relaxed = Runtime.version().feature() >= 23; // JDK-8139457
            long base4 = relaxed ? roundUp(header, 4) : roundUp(header, 8);
            Optional<Boolean> oops = flag(bean, "UseCompressedOops");
            String details = String.format(Locale.ROOT, "# VM mode: 64 bits (%s %s, layout from its options)%n"
                            + "# Compressed references (oops): %s%n"
                            + "# Compressed class pointers: %s%n"
                            + "# Compact object headers: %s%n"
                            + "# Object alignment: %d bytes%n"
                            + "# Array base offsets: int %d, float %d%n",
                    vmName, System.getProperty("java.vm.version", "?"),
                    oops.map(b -> b ? "enabled" : "disabled").orElse("unknown"),
                    compact ? "in the object header" : classPointers.get() ? "enabled" : "disabled",
                    compact ? "enabled" : "disabled", alignment, base4, base4);
            return Optional.of(new ArrayLayout(base4, base4, alignment, details));
        } catch (RuntimeException | LinkageError e) {
            // No java.management / jdk.management module (a jlinked runtime), or a VM that does not
            // answer: JOL decides.
            return Optional.empty();
        }
    }

    private static Optional<Boolean> flag(com.sun.management.HotSpotDiagnosticMXBean bean, String name) {
        try {
            return Optional.of(Boolean.parseBoolean(bean.getVMOption(name).getValue()));
        } catch (IllegalArgumentException absent) {
            return Optional.empty();
        }
    }

    private static long roundUp(long bytes, long to) {
        return (bytes + to - 1) / to * to;
    }

    /** The layout JOL reports (starting JOL, with what it prints). Package-private for the test. */
    static ArrayLayout fromJol() {
        VirtualMachine vm = VM.current();
        return new ArrayLayout(vm.arrayBaseOffset("float"), vm.arrayBaseOffset("int"), vm.objectAlignment(), vm.details());
    }

    /**
     * Answers the bytes a {@code float[length]} occupies: header plus payload, aligned.
     *
     * @param length the array's length
     * @return its size in bytes
     */
    public long floatArray(long length) {
        return align(floatBase + 4 * length);
    }

    /**
     * Answers the bytes an {@code int[length]} occupies.
     *
     * @param length the array's length
     * @return its size in bytes
     */
    public long intArray(long length) {
        return align(intBase + 4 * length);
    }

    /**
     * Answers the object alignment in bytes.
     *
     * @return the alignment, a power of two
     */
    public long alignment() {
        return alignment;
    }

    /**
     * Answers the array header (base offset of a float array) in bytes.
     *
     * @return the offset of element 0 of a {@code float[]}
     */
    public long floatArrayHeader() {
        return floatBase;
    }

    /**
     * Answers the base offset of an int array in bytes.
     *
     * @return the offset of element 0 of an {@code int[]}
     */
    public long intArrayHeader() {
        return intBase;
    }

    private long align(long bytes) {
        long aligned = (bytes + alignment - 1) / alignment * alignment;
        if (region > 0 && aligned >= region / 2) {
            return (aligned + region - 1) / region * region;
        }
        return aligned;
    }

    /**
     * Answers a description of the VM's layout, in the form of JOL's {@code VM.details()} (which it
     * is, when JOL computed the layout).
     *
     * @return lines starting with {@code #}
     */
    public String vmDetails() {
        return details;
    }
}
