/*
 * A Kafka Streams application for agent/test/clients/streams-exactly-once.test.ts, run with Java's
 * single-file source launcher against the kafka-clients and kafka-streams jars.
 *
 *   run <bootstrap> <application.id> <input> <output> <state dir> <processing.guarantee>
 *       Counts the input's records per key (groupByKey().count(), the state store's cache off, so every
 *       input record gives one output update) and writes each new count to the output as the string
 *       "<key>=<count>". Prints "STATE <new state>" at each state change; stops when stdin closes or a
 *       line "stop" arrives, then prints "CLOSED".
 *   read <bootstrap> <output> <partitions> <idle ms>
 *       Reads the output from the beginning with read_committed until nothing arrives for <idle ms>:
 *       "RECORD <partition> <offset> <value>" per record, then "END <count>".
 */
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;

public class StreamsCount {
    static void emit(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static void run(String bootstrap, String applicationId, String input, String output, String stateDir, String guarantee)
            throws Exception {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 200);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 2);
        p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, 1);
        // Members of a group whose coordinator died rejoin the next one sooner than the 45 s default.
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 2_000);
        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
                .groupByKey()
                .count()
                .toStream()
                .mapValues((key, count) -> key + "=" + count)
                .to(output, Produced.with(Serdes.String(), Serdes.String()));
        KafkaStreams streams = new KafkaStreams(builder.build(), p);
        streams.setStateListener((now, before) -> emit("STATE " + now));
        streams.setUncaughtExceptionHandler(e -> {
            emit("ERROR " + e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
        });
        streams.start();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line;
        while ((line = in.readLine()) != null && !line.equals("stop")) {
            // Waits for stdin to close or "stop".
        }
        streams.close(Duration.ofSeconds(30));
        emit("CLOSED");
    }

    static void read(String bootstrap, String output, int partitions, long idleMs) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) tps.add(new TopicPartition(output, i));
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            int count = 0;
            long last = System.currentTimeMillis();
            while (System.currentTimeMillis() - last < idleMs) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    emit("RECORD " + r.partition() + " " + r.offset() + " " + r.value());
                    count++;
                    last = System.currentTimeMillis();
                }
            }
            emit("END " + count);
        }
    }

    public static void main(String[] a) throws Exception {
        switch (a[0]) {
            case "run":
                run(a[1], a[2], a[3], a[4], a[5], a[6]);
                break;
            case "read":
                read(a[1], a[2], Integer.parseInt(a[3]), Long.parseLong(a[4]));
                break;
            default:
                throw new IllegalArgumentException("unknown mode " + a[0]);
        }
    }
}
