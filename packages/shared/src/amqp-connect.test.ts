import { amqpUrls } from './amqp-connect.js';

describe('amqpUrls', () => {
  test('one URL, or a cluster comma-separated, in order, blanks dropped', () => {
    expect(amqpUrls('amqp://a')).toEqual(['amqp://a']);
    expect(amqpUrls(' amqp://a:1 ,amqp://b:2,, amqp://c:3 ')).toEqual(['amqp://a:1', 'amqp://b:2', 'amqp://c:3']);
  });
});
