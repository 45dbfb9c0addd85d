package dev.checkprop.memory;

import org.junit.jupiter.api.Test;
import org.openjdk.jol.vm.VM;
import org.openjdk.jol.vm.VirtualMachine;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The layout {@link ArrayLayout} computes from the VM's options (its normal path, which starts no
 * JOL and prints nothing) is JOL's: the array base offsets, the object alignment, the element sizes
 * and the size of every array. The build runs this under the default VM mode, with
 * {@code -XX:-UseCompressedOops -XX:ObjectAlignmentInBytes=16}, and with
 * {@code -XX:-UseCompressedClassPointers} (a 20-byte header, rounded up to 24 before JDK 23).
 */
class ArrayLayoutTest {

    private static final long[] LENGTHS = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 1000, 1001, 65_536, 1 << 20};

    @Test
    void theNormalPathReadsTheVmOptions() {
        ArrayLayout computed = ArrayLayout.fromVmOptions().orElseThrow(
                () -> new AssertionError("no layout from the VM options on " + System.getProperty("java.vm.name")));
        ArrayLayout current = ArrayLayout.current();
        assertEquals(computed.vmDetails(), current.vmDetails(), "ArrayLayout.current() must not be JOL's here");
        assertTrue(current.vmDetails().contains("layout from its options"), current.vmDetails());
    }

    @Test
    void equalsWhatJolReports() {
        ArrayLayout computed = ArrayLayout.fromVmOptions().orElseThrow();
        VirtualMachine vm = VM.current();
        String mode = vm.details();
        assertEquals(vm.arrayBaseOffset("float"), computed.floatArrayHeader(), mode);
        assertEquals(vm.arrayBaseOffset("int"), computed.intArrayHeader(), mode);
        assertEquals(vm.objectAlignment(), computed.alignment(), mode);
        assertEquals(4, vm.arrayIndexScale("float"), mode);
        assertEquals(4, vm.arrayIndexScale("int"), mode);
        List<String> wrong = new ArrayList<>();
        for (long n : LENGTHS) {
            // With the tests' -Djdk.attach.allowAttachSelf=true JOL has Instrumentation: these are the VM's own sizes.
            long f = vm.sizeOf(new float[(int) n]);
            long i = vm.sizeOf(new int[(int) n]);
            if (f != computed.floatArray(n)) {
                wrong.add("float[" + n + "]: JOL " + f + ", computed " + computed.floatArray(n));
            }
            if (i != computed.intArray(n)) {
                wrong.add("int[" + n + "]: JOL " + i + ", computed " + computed.intArray(n));
            }
        }
        assertEquals(List.of(), wrong, mode);
    }

    @Test
    void jolsLayoutIsTheSameLayout() {
        ArrayLayout computed = ArrayLayout.fromVmOptions().orElseThrow();
        ArrayLayout jol = ArrayLayout.fromJol();
        assertEquals(jol.floatArrayHeader(), computed.floatArrayHeader());
        assertEquals(jol.intArrayHeader(), computed.intArrayHeader());
        assertEquals(jol.alignment(), computed.alignment());
        for (long n : LENGTHS) {
            assertEquals(jol.floatArray(n), computed.floatArray(n), "float[" + n + "]");
            assertEquals(jol.intArray(n), computed.intArray(n), "int[" + n + "]");
        }
    }
}
