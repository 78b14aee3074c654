import { DispatchWatermark } from './dispatch-watermark.js';

describe('DispatchWatermark', () => {
  const at = (ms: number) => new Date(1_700_000_000_000 + ms);

  it('is the newest known time while nothing is pending', () => {
    const watermark = new DispatchWatermark(at(0));
    watermark.observe(at(50));
    watermark.observe(at(20)); // an older reading never moves it back
    expect(watermark.value()).toEqual(at(50));
  });

  it('holds at the oldest unsettled ticket, whatever is observed meanwhile', () => {
    const watermark = new DispatchWatermark(at(0));
    const first = watermark.take(); // floor 0
    watermark.observe(at(100));
    const second = watermark.take(); // floor 100
    watermark.observe(at(200));
    expect(watermark.value()).toEqual(at(0));
    watermark.settle(first);
    expect(watermark.value()).toEqual(at(100));
    expect(watermark.pending).toBe(1);
    watermark.settle(second);
    expect(watermark.value()).toEqual(at(200));
  });

  it('keeps the older floor when a younger ticket settles first (confirms come out of order)', () => {
    const watermark = new DispatchWatermark(at(0));
    const first = watermark.take();
    watermark.observe(at(100));
    const second = watermark.take();
    watermark.settle(second);
    expect(watermark.value()).toEqual(at(0));
    watermark.settle(first);
    expect(watermark.value()).toEqual(at(100));
  });
});
