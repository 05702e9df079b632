/*
 * Kafka's Java clients in transactions, for agent/test/clients/transactions.test.ts, run with Java's
 * single-file source launcher against the kafka-clients jar. Prints one line per event on stdout.
 *
 *   produce <bootstrap> <topic> <partitions> <transactional.id> <plan> [key=value ...]
 *       Runs the plan, steps separated by commas: "commit:N" or "abort:N" sends N records spread over the
 *       partitions in one transaction and commits or aborts it; "open:N" sends N records, flushes them and
 *       ends the process without ending the transaction (left to the coordinator's timeout). Values are
 *       "<transactional.id>-<step>-<kind>-<i>". Lines: "COMMITTED <step>", "ABORTED <step>", "OPEN <step>",
 *       then "DONE".
 *   fence <bootstrap> <topic> <transactional.id>
 *       A first producer sends a record in a transaction, a second one with the same transactional.id
 *       initialises (fencing the first, whose transaction is aborted), the first then tries to commit.
 *       Lines: "FENCED <exception class>" (or "NOT-FENCED"), then "SECOND-COMMITTED" once the second
 *       producer committed a transaction of its own ("fence-second-0").
 *   consume <bootstrap> <topic> <partitions> <read_committed|read_uncommitted> <idle ms>
 *       Reads every partition from the beginning until nothing arrives for <idle ms>. Lines:
 *       "RECORD <partition> <offset> <value>", then "END <count>".
 *   workload <bootstrap> <topic> <partitions> <transactional.id> <transactions> <abort every> <records each>
 *       Runs transactions one after another, each sending <records each> records spread over the partitions;
 *       every <abort every>-th is aborted, the others committed. A transaction that fails (its end's outcome
 *       unknown) is given up: the producer is closed and a new one with the same transactional.id takes over
 *       (its initTransactions ends whatever the old one left). Lines: "BEGIN <txn> <value>,<value>,...",
 *       then "COMMITTED <txn>", "ABORTED <txn>" or "INDETERMINATE <txn> <exception>"; "DONE" at the end.
 *   read-process-write <bootstrap> <input> <output> <group> <transactional.id> <count>
 *       Consumes <count> records of <input> in group <group> (read_committed), and for each sends
 *       "out-<value>" to <output> in a transaction that also commits the consumed offsets
 *       (sendOffsetsToTransaction with the consumer's group metadata). Lines: "COMMITTED <n>", then "DONE".
 */
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class Transactions {
    static void emit(String line) {
        System.out.println(line);
        System.out.flush();
    }

    static KafkaProducer<String, String> producer(String bootstrap, String transactionalId, Map<String, String> extra) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.putAll(extra);
        return new KafkaProducer<>(p);
    }

    static KafkaConsumer<String, String> consumer(String bootstrap, String isolation, String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        if (group != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        return new KafkaConsumer<>(p);
    }

    static Map<String, String> props(String[] a, int from) {
        Map<String, String> m = new HashMap<>();
        for (int i = from; i < a.length; i++) {
            int eq = a[i].indexOf('=');
            m.put(a[i].substring(0, eq), a[i].substring(eq + 1));
        }
        return m;
    }

    static void produce(String bootstrap, String topic, int partitions, String id, String plan, Map<String, String> extra) {
        KafkaProducer<String, String> producer = producer(bootstrap, id, extra);
        producer.initTransactions();
        String[] steps = plan.split(",");
        for (int step = 0; step < steps.length; step++) {
            String[] kindAndCount = steps[step].split(":");
            String kind = kindAndCount[0];
            int n = Integer.parseInt(kindAndCount[1]);
            producer.beginTransaction();
            for (int i = 0; i < n; i++) {
                String value = id + "-" + step + "-" + kind + "-" + i;
                producer.send(new ProducerRecord<>(topic, i % partitions, null, value));
            }
            switch (kind) {
                case "commit":
                    producer.commitTransaction();
                    emit("COMMITTED " + step);
                    break;
                case "abort":
                    producer.flush();
                    producer.abortTransaction();
                    emit("ABORTED " + step);
                    break;
                case "open":
                    producer.flush();
                    emit("OPEN " + step);
                    emit("DONE");
                    Runtime.getRuntime().halt(0);
                    break;
                default:
                    throw new IllegalArgumentException("unknown step " + steps[step]);
            }
        }
        producer.close();
        emit("DONE");
    }

    static void fence(String bootstrap, String topic, String id) {
        KafkaProducer<String, String> first = producer(bootstrap, id, Map.of());
        first.initTransactions();
        first.beginTransaction();
        first.send(new ProducerRecord<>(topic, 0, null, "fence-first-0"));
        first.flush();
        KafkaProducer<String, String> second = producer(bootstrap, id, Map.of());
        second.initTransactions();
        try {
            first.commitTransaction();
            emit("NOT-FENCED");
        } catch (Exception e) {
            emit("FENCED " + e.getClass().getName());
        }
        first.close(Duration.ofSeconds(5));
        second.beginTransaction();
        second.send(new ProducerRecord<>(topic, 0, null, "fence-second-0"));
        second.commitTransaction();
        emit("SECOND-COMMITTED");
        second.close();
    }

    static void consume(String bootstrap, String topic, int partitions, String isolation, long idleMs) {
        KafkaConsumer<String, String> consumer = consumer(bootstrap, isolation, null);
        List<TopicPartition> tps = new ArrayList<>();
        for (int p = 0; p < partitions; p++) tps.add(new TopicPartition(topic, p));
        consumer.assign(tps);
        consumer.seekToBeginning(tps);
        int count = 0;
        long lastRecord = System.currentTimeMillis();
        while (System.currentTimeMillis() - lastRecord < idleMs) {
            ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(200));
            for (ConsumerRecord<String, String> r : records) {
                emit("RECORD " + r.partition() + " " + r.offset() + " " + r.value());
                count++;
                lastRecord = System.currentTimeMillis();
            }
        }
        consumer.close();
        emit("END " + count);
    }

    /** A producer of `id` whose initTransactions went through, retried while the cluster recovers. */
    static KafkaProducer<String, String> initialised(String bootstrap, String id, Map<String, String> extra) {
        for (int attempt = 0; ; attempt++) {
            KafkaProducer<String, String> producer = producer(bootstrap, id, extra);
            try {
                producer.initTransactions();
                return producer;
            } catch (Exception e) {
                emit("INIT-FAILED " + e.getClass().getSimpleName());
                producer.close(Duration.ZERO);
                if (attempt >= 20) throw e;
            }
        }
    }

    static void workload(String bootstrap, String topic, int partitions, String id, int transactions, int abortEvery, int each) {
        Map<String, String> extra = Map.of(
                ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "10000",
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000",
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000",
                ProducerConfig.MAX_BLOCK_MS_CONFIG, "30000");
        KafkaProducer<String, String> producer = initialised(bootstrap, id, extra);
        int generation = 0;
        for (int t = 0; t < transactions; t++) {
            boolean abort = abortEvery > 0 && t % abortEvery == abortEvery - 1;
            String txn = id + "-g" + generation + "-t" + t;
            List<String> values = new ArrayList<>();
            for (int i = 0; i < each; i++) values.add(txn + "-r" + i);
            emit("BEGIN " + txn + " " + String.join(",", values));
            try {
                producer.beginTransaction();
                for (int i = 0; i < each; i++) producer.send(new ProducerRecord<>(topic, i % partitions, null, values.get(i)));
                if (abort) {
                    producer.flush();
                    producer.abortTransaction();
                    emit("ABORTED " + txn);
                } else {
                    producer.commitTransaction();
                    emit("COMMITTED " + txn);
                }
            } catch (Exception e) {
                emit("INDETERMINATE " + txn + " " + e.getClass().getSimpleName());
                try {
                    producer.close(Duration.ZERO);
                } catch (Exception ignored) {
                    // Closing a failed producer: nothing to keep.
                }
                generation++;
                producer = initialised(bootstrap, id, extra);
            }
        }
        producer.close();
        emit("DONE");
    }

    static void readProcessWrite(String bootstrap, String input, String output, String group, String id, int count) {
        KafkaConsumer<String, String> consumer = consumer(bootstrap, "read_committed", group);
        KafkaProducer<String, String> producer = producer(bootstrap, id, Map.of());
        producer.initTransactions();
        consumer.subscribe(List.of(input));
        int done = 0;
        while (done < count) {
            ConsumerRecords<String, String> records = consumer.poll(Duration.ofMillis(500));
            if (records.isEmpty()) continue;
            producer.beginTransaction();
            Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
            for (ConsumerRecord<String, String> r : records) {
                producer.send(new ProducerRecord<>(output, r.partition(), null, "out-" + r.value()));
                offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                done++;
            }
            producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
            producer.commitTransaction();
            emit("COMMITTED " + done);
        }
        producer.close();
        consumer.close();
        emit("DONE");
    }

    public static void main(String[] a) {
        switch (a[0]) {
            case "produce":
                produce(a[1], a[2], Integer.parseInt(a[3]), a[4], a[5], props(a, 6));
                break;
            case "fence":
                fence(a[1], a[2], a[3]);
                break;
            case "consume":
                consume(a[1], a[2], Integer.parseInt(a[3]), a[4], Long.parseLong(a[5]));
                break;
            case "workload":
                workload(a[1], a[2], Integer.parseInt(a[3]), a[4], Integer.parseInt(a[5]), Integer.parseInt(a[6]), Integer.parseInt(a[7]));
                break;
            case "read-process-write":
                readProcessWrite(a[1], a[2], a[3], a[4], a[5], Integer.parseInt(a[6]));
                break;
            default:
                throw new IllegalArgumentException("unknown mode " + a[0]);
        }
    }
}
