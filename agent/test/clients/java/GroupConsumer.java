/*
 * A Kafka consumer for the group tests (agent/test/clients/consumer-group-protocol.test.ts), run with
 * Java's single-file source launcher against the kafka-clients jar. It subscribes (to topic names, or
 * to a server-side regular expression with "regex:<pattern>"), prints one line per event on stdout
 * for the test to check, and leaves the group when a line "stop" arrives on stdin (or stdin closes).
 *
 *   java -cp <kafka jars> GroupConsumer.java <bootstrap> <group> <topics|regex:pattern> <name> [key=value ...]
 *
 * Lines, each starting with microseconds since the epoch (one clock for every consumer on the host):
 *   <us> ASSIGNED <name> <topic>-<partition>,...       from the rebalance listener
 *   <us> REVOKED <name> <topic>-<partition>,...
 *   <us> LOST <name> <topic>-<partition>,...
 *   <us> RECORD <name> <topic>-<partition> <offset> <value>
 *   <us> COMMITTED <name> <topic>-<partition> <offset>   after a successful commitSync
 *   <us> CLOSED <name>
 * Extra key=value arguments are consumer properties (group.protocol=consumer, group.remote.assignor=...).
 */
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

public class GroupConsumer {
    static synchronized void emit(String line) {
        Instant now = Instant.now();
        long micros = now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000L;
        System.out.println(micros + " " + line);
        System.out.flush();
    }

    static String partitions(Collection<TopicPartition> parts) {
        return parts.stream().map(tp -> tp.topic() + "-" + tp.partition()).sorted().collect(Collectors.joining(","));
    }

    public static void main(String[] args) throws Exception {
        String bootstrap = args[0];
        String group = args[1];
        String subscription = args[2];
        String name = args[3];
        Properties props = new Properties();
        props.put("bootstrap.servers", bootstrap);
        props.put("group.id", group);
        props.put("client.id", name);
        props.put("key.deserializer", StringDeserializer.class.getName());
        props.put("value.deserializer", StringDeserializer.class.getName());
        props.put("enable.auto.commit", "false");
        props.put("auto.offset.reset", "earliest");
        for (int i = 4; i < args.length; i++) {
            int eq = args[i].indexOf('=');
            props.put(args[i].substring(0, eq), args[i].substring(eq + 1));
        }
        AtomicBoolean stopping = new AtomicBoolean(false);
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props);
        Thread stdin = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in))) {
                String line;
                while ((line = in.readLine()) != null) if (line.trim().equals("stop")) break;
            } catch (Exception e) {
                // stdin gone: stop as well
            }
            // No wakeup(): it could interrupt a commit; the poll loop sees the flag within its timeout.
            stopping.set(true);
        });
        stdin.setDaemon(true);
        stdin.start();
        Map<TopicPartition, Long> next = new HashMap<>();
        ConsumerRebalanceListener listener = new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> parts) {
                if (parts.isEmpty()) return;
                commit(consumer, next, name, parts);
                for (TopicPartition tp : parts) next.remove(tp);
                emit("REVOKED " + name + " " + partitions(parts));
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> parts) {
                if (!parts.isEmpty()) emit("ASSIGNED " + name + " " + partitions(parts));
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> parts) {
                for (TopicPartition tp : parts) next.remove(tp);
                if (!parts.isEmpty()) emit("LOST " + name + " " + partitions(parts));
            }
        };
        if (subscription.startsWith("regex:")) {
            consumer.subscribe(new SubscriptionPattern(subscription.substring("regex:".length())), listener);
        } else {
            consumer.subscribe(List.of(subscription.split(",")), listener);
        }
        try {
            while (!stopping.get()) {
                ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
                for (ConsumerRecord<String, String> r : records) {
                    emit("RECORD " + name + " " + r.topic() + "-" + r.partition() + " " + r.offset() + " " + r.value());
                    next.put(new TopicPartition(r.topic(), r.partition()), r.offset() + 1);
                }
                if (!records.isEmpty()) commit(consumer, next, name, next.keySet());
            }
        } finally {
            commit(consumer, next, name, consumer.assignment());
            consumer.close();
            emit("CLOSED " + name);
        }
    }

    /** Commits the next offsets of `parts` (those consumed from), and prints what was committed. */
    static void commit(KafkaConsumer<String, String> consumer, Map<TopicPartition, Long> next, String name,
                       Collection<TopicPartition> parts) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : parts) {
            Long offset = next.get(tp);
            if (offset != null) offsets.put(tp, new OffsetAndMetadata(offset));
        }
        if (offsets.isEmpty()) return;
        try {
            consumer.commitSync(offsets);
        } catch (RuntimeException e) {
            emit("COMMITFAILED " + name + " " + e);
            return;
        }
        for (Map.Entry<TopicPartition, OffsetAndMetadata> e : offsets.entrySet())
            emit("COMMITTED " + name + " " + e.getKey().topic() + "-" + e.getKey().partition() + " " + e.getValue().offset());
    }
}
