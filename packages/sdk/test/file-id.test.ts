import { describe, expect, it } from 'vitest';
import { fileIdFromUrl, LegimError } from '../src/index.js';

const ID = '5f0c8a0e-6a4b-4f7e-9a59-1c1d4a3f8e21';

describe('fileIdFromUrl', () => {
  it.each([
    ID,
    ID.toUpperCase(),
    ` ${ID}\n`,
    `http://127.0.0.1:3333/d/${ID}`,
    `https://img.example.com/legim/d/${ID}`,
    `http://127.0.0.1:3333/v1/files/${ID}`,
    `http://127.0.0.1:3333/s/${ID}`,
    `http://127.0.0.1:3333/d/${ID}/`,
    `http://127.0.0.1:3333/d/${ID}?download=1#top`,
    `127.0.0.1:3333/d/${ID}`,
    `/d/${ID}`,
    `v1/files/${ID}`,
  ])('finds the id in %j', (input) => {
    expect(fileIdFromUrl(input)).toBe(ID);
  });

  it.each([
    '',
    'photo.jpg',
    ID.slice(0, -1),
    `${ID}0`,
    `${ID.replaceAll('-', '')}`,
    `http://127.0.0.1:3333/${ID}`,
    `http://127.0.0.1:3333/x/${ID}`,
    `http://127.0.0.1:3333/d/${ID}/thumb`,
    `http://127.0.0.1:3333/v1/files/${ID}/variants/thumb`,
    `http://127.0.0.1:3333/d/..%2F${ID}`,
    `http://127.0.0.1:3333/d/zzzzzzzz-6a4b-4f7e-9a59-1c1d4a3f8e21`,
    `http://[::1`,
  ])('refuses %j with INVALID_OPTION', (input) => {
    expect(() => fileIdFromUrl(input)).toThrow(LegimError);
    expect(() => fileIdFromUrl(input)).toThrow(
      /expected an id like .* or a link ending in \/d\/<id>, \/s\/<id> or \/v1\/files\/<id>/,
    );
  });

  it('refuses what is not a string', () => {
    expect(() => fileIdFromUrl(undefined as unknown as string)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
  });
});
