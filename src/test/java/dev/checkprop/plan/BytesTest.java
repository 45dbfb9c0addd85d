package dev.checkprop.plan;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Byte sizes as the command line writes them: {@link Planners#parseBytes} and its inverses. */
class BytesTest {

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
            "0; 0",
            "4096; 4096",
            "10B; 10",
            "10 b; 10",
            "1KB; 1000",
            "2.5kb; 2500",
            "1KiB; 1024",
            "1 KiB; 1024",
            "64MiB; 67108864",
            "64mib; 67108864",
            "64MIB; 67108864",
            "64MB; 64000000",
            "1.5GiB; 1610612736",
            "1.5 gb; 1500000000",
            "3TiB; 3298534883328",
            "2TB; 2000000000000",
            "0.5KiB; 512",
            ".5KiB; 512",
            "1.KiB; 1024",
            "'  12 MiB  '; 12582912",
            "9223372036854775807; 9223372036854775807",
    })
    void parses(String text, long bytes) {
        assertEquals(bytes, Planners.parseBytes(text));
    }

    @ParameterizedTest
    @CsvSource(delimiter = ';', value = {
            "''; bytes '': not a size",
            "MiB; bytes 'MiB': not a size",
            "-1; bytes '-1': not a size",
            "1e9; bytes '1e9': not a size",
            "64XB; bytes '64XB': unknown unit 'XB'",
            "8EiB; bytes '8EiB': unknown unit 'EiB'",
            "12 M; bytes '12 M': unknown unit 'M'",
            "1,000; bytes '1,000': not a size",
            "1.5; bytes '1.5': 1.5 is not a whole number of bytes",
            "0.1KiB; bytes '0.1KiB': 102.4 is not a whole number of bytes",
            "9223372036854775808; bytes '9223372036854775808': more than 9223372036854775807 bytes",
            "8TiB TiB; bytes '8TiB TiB': not a size",
    })
    void rejectsNamingTheString(String text, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Planners.parseBytes(text));
        assertEquals(message, e.getMessage().replaceAll(" \\(expected .*\\)$", ""));
    }

    @ParameterizedTest
    @CsvSource({
            "0, 0",
            "1000, 1000",
            "1023, 1023",
            "1024, 1KiB",
            "196608, 192KiB",
            "64000000, 64MB",
            "67108864, 64MiB",
            "1610612736, 1536MiB",
            "3298534883328, 3TiB",
            "1000000000000, 1TB",
            "1000001, 1000001",
            "2048000, 2048KB",
            "2097152, 2MiB",
    })
    void formatsShortestExact(long bytes, String text) {
        assertEquals(text, Planners.formatBytes(bytes));
    }

    @Test
    void formatAndParseRoundTrip() {
        final Random r = new Random(1);
        for (int i = 0; i < 10_000; i++) {
            final long bytes = switch (i % 3) {
                case 0 -> r.nextLong() & Long.MAX_VALUE;
                case 1 -> (long) r.nextInt(1 << 20) << (10 * r.nextInt(4));
                default -> r.nextInt(5000) * (long) Math.pow(1000, r.nextInt(4));
            };
            assertEquals(bytes, Planners.parseBytes(Planners.formatBytes(bytes)), Long.toString(bytes));
        }
    }

    @ParameterizedTest
    @CsvSource({
            "0, 0 B",
            "512, 512 B",
            "1023, 1023 B",
            "1024, 1.0 KiB",
            "196608, 192.0 KiB",
            "1610612736, 1.5 GiB",
            "67108864, 64.0 MiB",
            "9223372036854775807, 8.0 EiB",
    })
    void humanReadable(long bytes, String text) {
        assertEquals(text, Planners.humanBytes(bytes));
    }
}
