package dev.checkprop.memory;

import org.openjdk.jol.vm.VM;
import org.openjdk.jol.vm.VirtualMachine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * How the running JVM lays out primitive arrays, read once through JOL: the array base offset
 * (header) and the object alignment. Nothing is hard-coded, so predictions follow the VM's mode
 * (compressed oops and class pointers on or off, {@code -XX:ObjectAlignmentInBytes}).
 *
 * <p>JOL's first {@code VM.current()} takes about half a second here (two seconds with its
 * Serviceability Agent attach, which only refines details checkprop does not use, so it is skipped
 * unless the user set {@code jol.skipHotspotSAAttach} themselves) and prints warnings on standard
 * output; both happen once, here, with the warnings captured and kept in {@link #warnings()}
 * rather than printed, since a library must not write to the console.
 */
public final class ArrayLayout {

    private final long floatBase;
    private final long intBase;
    private final long alignment;
    private final String details;
    private final String warnings;
    /** G1 region size when this layout rounds humongous arrays up to whole regions; 0 for exact sizes. */
    private final long region;

    private ArrayLayout(VirtualMachine vm, String warnings) {
        this.floatBase = vm.arrayBaseOffset("float");
        this.intBase = vm.arrayBaseOffset("int");
        this.alignment = vm.objectAlignment();
        this.details = vm.details();
        this.warnings = warnings;
        this.region = 0;
    }

    private ArrayLayout(ArrayLayout exact, long region) {
        this.floatBase = exact.floatBase;
        this.intBase = exact.intBase;
        this.alignment = exact.alignment;
        this.details = exact.details;
        this.warnings = exact.warnings;
        this.region = region;
    }

    /**
     * Answers the layout of what arrays cost the <em>heap</em>, as opposed to their size: under the G1
     * collector an array of at least half a region is "humongous" and occupies whole regions
     * (a 655 KB activation buffer takes a 1 MiB region in a 256 MiB heap). Budgets that must fit
     * under {@code -Xmx} use this layout; JOL comparisons use {@link #current()}. Without G1, or when
     * the VM does not say, it is the exact layout.
     */
    public ArrayLayout heapFootprint() {
        long r = g1RegionSize();
        return r > 0 ? new ArrayLayout(this, r) : this;
    }

    private static long g1RegionSize() {
        try {
            var bean = java.lang.management.ManagementFactory.getPlatformMXBean(
                    com.sun.management.HotSpotDiagnosticMXBean.class);
            if (bean == null || !Boolean.parseBoolean(bean.getVMOption("UseG1GC").getValue())) {
                return 0;
            }
            return Long.parseLong(bean.getVMOption("G1HeapRegionSize").getValue());
        } catch (RuntimeException | LinkageError e) {
            return 0;
        }
    }

    private static final class Holder {
        static final ArrayLayout CURRENT = load();
    }

    /** Answers the layout of this JVM (initialises JOL on first use). */
    public static ArrayLayout current() {
        return Holder.CURRENT;
    }

    private static ArrayLayout load() {
        if (System.getProperty("jol.skipHotspotSAAttach") == null) {
            System.setProperty("jol.skipHotspotSAAttach", "true");
        }
        synchronized (System.class) {
            PrintStream out = System.out;
            PrintStream err = System.err;
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            PrintStream sink = new PrintStream(captured, true, StandardCharsets.UTF_8);
            System.setOut(sink);
            System.setErr(sink);
            try {
                VirtualMachine vm = VM.current();
                return new ArrayLayout(vm, captured.toString(StandardCharsets.UTF_8).strip());
            } finally {
                System.setOut(out);
                System.setErr(err);
            }
        }
    }

    /** Answers the bytes a {@code float[length]} occupies: header plus payload, aligned. */
    public long floatArray(long length) {
        return align(floatBase + 4 * length);
    }

    /** Answers the bytes an {@code int[length]} occupies. */
    public long intArray(long length) {
        return align(intBase + 4 * length);
    }

    /** Answers the object alignment in bytes. */
    public long alignment() {
        return alignment;
    }

    /** Answers the array header (base offset of a float array) in bytes. */
    public long floatArrayHeader() {
        return floatBase;
    }

    private long align(long bytes) {
        long aligned = (bytes + alignment - 1) / alignment * alignment;
        if (region > 0 && aligned >= region / 2) {
            return (aligned + region - 1) / region * region;
        }
        return aligned;
    }

    /** Answers JOL's description of the VM, as JOL's samples print first. */
    public String vmDetails() {
        return details;
    }

    /** Answers what JOL printed while it initialised (captured, not shown). */
    public String warnings() {
        return warnings;
    }
}
