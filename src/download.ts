import { IExportedFile } from './tokens';

/**
 * Save a file through the browser: a Blob behind an `<a download>`.
 */
export function downloadFile(file: IExportedFile): void {
  const blob = new Blob([file.content], { type: file.contentType });
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = file.filename;
  link.style.display = 'none';
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Give the browser time to start the download before the URL goes.
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
