// DMA write path (STORE): rows of the output buffer -> DRAM write bursts.
// Every transfer is a segment {DRAM address, beats, first source row, source}; a small queue of
// segments decouples what to write (the generator) from the write-request channel and from the
// row reader feeding the data channel. A beat is only sent once its segment's request has been
// accepted; a two-row queue hides the buffers' read latency.
//
// Zero-block mode (STORE h8 bit 0, docs/engine.md) is the encoder: pass 1 reads the band block by
// block and writes one flag per block (|v - zp| > eps anywhere at a real position) into the
// bitmap buffer, in bitmap-row order; pass 2 walks the planar band in buffer order and writes the
// segments of non-zero blocks only; pass 3 writes the band's bitmap rows.
module gatec_dma_wr #(
  parameter int unsigned B            = 16,
  parameter int unsigned Wa           = 16,
  parameter int unsigned L            = 8,
  parameter int unsigned RowAddrWidth = 16,
  parameter int unsigned MaxBurst     = 64,
  parameter int unsigned BmBytes      = 2048,
  localparam int unsigned BeatIdxWidth = (Wa / B > 1) ? $clog2(Wa / B) : 1
) (
  input  logic                    clk_i,
  input  logic                    rst_ni,
  input  logic                    start_i,
  input  logic [511:0]            instr_i,
  output logic                    busy_o,
  output logic                    req_valid_o,
  input  logic                    req_ready_i,
  output logic [31:0]             req_addr_o,
  output logic [15:0]             req_beats_o,
  output logic                    data_valid_o,
  input  logic                    data_ready_i,
  output logic [B*8-1:0]          data_o,
  output logic                    data_last_o,
  output logic                    re_o,
  output logic [RowAddrWidth-1:0] raddr_o,
  input  logic [Wa*8-1:0]         rdata_i
);
  localparam int unsigned LogB = $clog2(B);
  localparam int unsigned RowIdxWidth = $clog2(Wa * 8);
  localparam int unsigned Wpr = Wa / L;
  localparam int unsigned BmRows = BmBytes / B;
  localparam int unsigned BmRowW = $clog2(BmRows);
  localparam int unsigned BitIdxW = $clog2(BmBytes * 8);
  localparam int unsigned BitPtrW = $clog2(B * 8);
  localparam int unsigned SegDepth = 4;
  localparam int unsigned SegPtrW = $clog2(SegDepth);

  logic [15:0] h [32];
  always_comb begin
    for (int unsigned k = 0; k < 32; k++) h[k] = instr_i[16*k +: 16];
  end

  typedef enum logic [2:0] {SIdle, SDense, SPass1, SPass2, SPass3, SDrain} state_e;
  state_e state_q;

  // ------------------------------------------------------------------ instruction fields
  logic [31:0] addr_q, left_q, plane_bytes_q, bm_addr_q, bm_left_q;
  logic [RowAddrWidth-1:0] row0_q;
  logic [15:0] planes_q, rows_q, nwb_q, seg_beats_q, bh_q, bm_row_q, k_q, valid_rows_q, w_q;
  logic [RowAddrWidth-1:0] bpr_q, kbpr_q, rr_q, bhrr_q;
  logic [7:0]  zp_q, eps_q;
  logic [15:0] seg_rows, bw;
  assign seg_rows = 16'(seg_beats_q >> $clog2(Wa / B));
  assign bw       = 16'((32'(seg_beats_q) << LogB) >> $clog2(L));

  // ------------------------------------------------------------------ segment queue
  logic [31:0]             sq_addr_q  [SegDepth];
  logic [15:0]             sq_beats_q [SegDepth];
  logic [RowAddrWidth-1:0] sq_row_q   [SegDepth];
  logic                    sq_bm_q    [SegDepth];
  logic [SegPtrW:0] wr_q, req_q, rd_q, hd_q;
  logic push, sq_full;
  logic [31:0] push_addr;
  logic [15:0] push_beats;
  logic [RowAddrWidth-1:0] push_row;
  logic push_bm;
  assign sq_full = ((wr_q - hd_q) == (SegPtrW+1)'(SegDepth));

  always_ff @(posedge clk_i) begin
    if (push) begin
      sq_addr_q[wr_q[SegPtrW-1:0]]  <= push_addr;
      sq_beats_q[wr_q[SegPtrW-1:0]] <= push_beats;
      sq_row_q[wr_q[SegPtrW-1:0]]   <= push_row;
      sq_bm_q[wr_q[SegPtrW-1:0]]    <= push_bm;
    end
  end

  // The segment being pushed is visible in the same cycle (a bypass), so a dense STORE requests
  // and reads its first row one cycle after issue, as it did before segments existed.
  logic req_byp, rd_byp;
  logic [15:0] rd_beats;
  logic [RowAddrWidth-1:0] rd_row;
  assign req_byp = (req_q == wr_q);
  assign rd_byp  = (rd_q == wr_q);

  // requests, in segment order
  assign req_valid_o = !req_byp || push;
  assign req_addr_o  = req_byp ? push_addr : sq_addr_q[req_q[SegPtrW-1:0]];
  assign req_beats_o = req_byp ? push_beats : sq_beats_q[req_q[SegPtrW-1:0]];

  // ------------------------------------------------------------------ row reader and row queue
  logic [Wa*8-1:0] queue_q [2];
  logic            queue_bm_q [2];
  logic rq_rd_q, rq_wr_q, inflight_q, inflight_bm_q;
  logic [1:0] count_q;
  logic [15:0] rd_rows_done_q;
  logic [BeatIdxWidth-1:0] beat_q;
  logic [15:0] seg_beat_q;
  logic rd_issue, beat_fire, row_consumed, seg_done, rd_seg_bm;
  logic [15:0] rd_seg_rows;
  logic [BmRowW-1:0] bm_raddr_rows;
  logic [BeatIdxWidth-1:0] head_last_beat;

  assign rd_seg_bm   = rd_byp ? push_bm : sq_bm_q[rd_q[SegPtrW-1:0]];
  assign rd_beats    = rd_byp ? push_beats : sq_beats_q[rd_q[SegPtrW-1:0]];
  assign rd_row      = rd_byp ? push_row : sq_row_q[rd_q[SegPtrW-1:0]];
  // a bitmap row is one beat; an out-buffer row Wa/B beats
  assign rd_seg_rows = rd_seg_bm ? rd_beats : 16'(rd_beats >> $clog2(Wa / B));
  assign head_last_beat = queue_bm_q[rq_rd_q] ? '0 : BeatIdxWidth'(Wa / B - 1);

  assign data_valid_o = (count_q != 2'd0) && (req_q != hd_q);
  assign beat_fire    = data_valid_o && data_ready_i;
  assign row_consumed = beat_fire && (beat_q == head_last_beat);
  assign seg_done     = beat_fire && (seg_beat_q == sq_beats_q[hd_q[SegPtrW-1:0]] - 16'd1);
  assign data_o       = queue_q[rq_rd_q][RowIdxWidth'({beat_q, LogB'(0), 3'b000}) +: B*8];
  assign data_last_o  = (seg_beat_q == sq_beats_q[hd_q[SegPtrW-1:0]] - 16'd1);

  // pass 1 owns the out-buffer read port; otherwise the row reader does
  logic p1_re;
  logic [RowAddrWidth-1:0] p1_raddr;
  assign rd_issue = (state_q != SPass1) && (!rd_byp || push) &&
                    (32'(count_q) + 32'(inflight_q) - (row_consumed ? 32'd1 : 32'd0) < 32'd2);
  assign re_o    = p1_re || (rd_issue && !rd_seg_bm);
  assign raddr_o = p1_re ? p1_raddr : rd_row + RowAddrWidth'(rd_rows_done_q);
  assign bm_raddr_rows = BmRowW'(rd_row + RowAddrWidth'(rd_rows_done_q));

  // ------------------------------------------------------------------ bitmap buffer
  logic bm_we, bm_re;
  logic [BmRowW-1:0] bm_waddr_q, bm_raddr;
  logic [B*8-1:0] bm_wdata, bm_rdata;
  gatec_ram #(.RowBytes(B), .Rows(BmRows)) u_bitmap (
    .clk_i, .we_i (bm_we), .waddr_i (bm_waddr_q), .wbe_i ('1), .wdata_i (bm_wdata),
    .re_i (bm_re), .raddr_i (bm_raddr), .rdata_o (bm_rdata)
  );

  // ------------------------------------------------------------------ pass 1: block flags
  // walker over (hb, cb, wb, pl, yb, sr) with one out-buffer row per cycle
  logic p1_walk_q;
  logic [15:0] cg_cb_q, pl_q, yb_q, y_hb_q, wb_q, sr_q, x_wb_q, x_sr_q;
  logic [RowAddrWidth-1:0] r_hb_q, r_cb_q, r_pl_q, r_yb_q, r_wb_q;
  logic last_sr, last_yb, last_pl, last_wb, last_cb, last_hb, p1_stall, p1_a;
  assign last_sr = (sr_q == seg_rows - 16'd1);
  assign last_yb = (yb_q == bh_q - 16'd1);
  assign last_pl = (pl_q == k_q - 16'd1) || (cg_cb_q + pl_q + 16'd1 >= planes_q);
  assign last_wb = (wb_q == nwb_q - 16'd1);
  assign last_cb = (cg_cb_q + k_q >= planes_q);
  assign last_hb = (y_hb_q + bh_q >= rows_q);

  // stage B of pass 1: the row read in the previous cycle
  logic b1_valid_q, b1_yvalid_q, b1_last_blk_q, b1_last_hbrow_q, blk_nz_q;
  logic [15:0] b1_nvw_q;
  logic row_nz, flag;
  always_comb begin
    row_nz = 1'b0;
    for (int unsigned w = 0; w < Wpr; w++) begin
      for (int unsigned c = 0; c < L; c++) begin
        logic signed [8:0] d, e;
        d = 9'($signed(rdata_i[(w*L+c)*8 +: 8])) - 9'($signed(zp_q));
        e = $signed({1'b0, eps_q});
        if (b1_yvalid_q && 16'(w) < b1_nvw_q && (d > e || d < -e)) begin
          row_nz = 1'b1;
        end
      end
    end
  end
  assign flag = blk_nz_q || row_nz;

  // flags collect into a bitmap-buffer row; a bitmap row ends padded with zero rows
  logic [B*8-1:0] bits_q;
  logic [BitPtrW-1:0] ptr_q;
  logic [15:0] rows_in_bmrow_q, flush_q, bm_rows_per_row;
  logic bit_push, bit_row_full, flushing;
  assign bm_rows_per_row = 16'(bm_row_q >> LogB);
  assign bit_push     = b1_valid_q && b1_last_blk_q;
  assign bit_row_full = bit_push && (ptr_q == BitPtrW'(B * 8 - 1));
  assign flushing     = (flush_q != '0);
  assign p1_stall     = flushing || (b1_valid_q && b1_last_hbrow_q);
  assign p1_a         = (state_q == SPass1) && p1_walk_q && !p1_stall;
  assign p1_re        = p1_a;
  assign p1_raddr     = row0_q + r_cb_q + r_pl_q + r_hb_q + r_yb_q + r_wb_q + RowAddrWidth'(sr_q);

  logic [B*8-1:0] bits_with_push;
  always_comb begin
    bits_with_push = bits_q;
    if (bit_push) bits_with_push[ptr_q] = flag;
  end

  // ------------------------------------------------------------------ pass 2: non-zero segments
  logic p2_walk, p2_start;
  logic [BitIdxW-1:0] bit_idx;
  logic [31:0] seg_addr;
  logic [RowAddrWidth-1:0] walk_row;
  logic b2_valid_q, b2_bit, b2_fire, a2_fire;
  logic [BitPtrW-1:0] b2_sel_q;
  logic [31:0] b2_addr_q;
  logic [RowAddrWidth-1:0] b2_row_q;
  assign p2_start = (state_q == SPass1) && !p1_walk_q && !b1_valid_q && !flushing;

  gatec_zb_walker #(.B(B), .RowAddrWidth(RowAddrWidth), .BitIdxW(BitIdxW)) u_walker (
    .clk_i, .rst_ni,
    .start_i       (p2_start),
    .planes_i      (planes_q),
    .rows_i        (rows_q),
    .nwb_i         (nwb_q),
    .seg_beats_i   (seg_beats_q),
    .seg_rows_i    (RowAddrWidth'(seg_rows)),
    .bh_i          (bh_q),
    .bm_row_i      (bm_row_q),
    .k_i           (k_q),
    .plane_bytes_i (plane_bytes_q),
    .addr_i        (addr_q),
    .row_i         (row0_q),
    .advance_i     (a2_fire),
    .walking_o     (p2_walk),
    .bit_idx_o     (bit_idx),
    .seg_addr_o    (seg_addr),
    .row_o         (walk_row)
  );
  assign b2_bit  = bm_rdata[b2_sel_q];
  assign b2_fire = b2_valid_q && (!b2_bit || !sq_full);
  assign a2_fire = (state_q == SPass2) && p2_walk && (!b2_valid_q || b2_fire);

  // the bitmap buffer's read port: pass 2's flags, then pass 3's rows through the row reader
  assign bm_re    = a2_fire || (rd_issue && rd_seg_bm);
  assign bm_raddr = a2_fire ? BmRowW'(bit_idx >> BitPtrW) : bm_raddr_rows;

  // ------------------------------------------------------------------ segment generator
  logic [31:0] burst, gen_left;
  assign gen_left = (state_q == SPass3) ? bm_left_q : left_q;
  assign burst    = (gen_left > 32'(MaxBurst)) ? 32'(MaxBurst) : gen_left;
  always_comb begin
    push       = 1'b0;
    push_addr  = addr_q;
    push_beats = burst[15:0];
    push_row   = row0_q;
    push_bm    = 1'b0;
    case (state_q)
      SDense: push = (left_q != '0) && !sq_full;
      SPass2: begin
        push       = b2_valid_q && b2_bit && !sq_full;
        push_addr  = b2_addr_q;
        push_beats = seg_beats_q;
        push_row   = b2_row_q;
      end
      SPass3: begin
        push      = (bm_left_q != '0) && !sq_full;
        push_addr = bm_addr_q;
        push_row  = RowAddrWidth'(bm_waddr_q);
        push_bm   = 1'b1;
      end
      default: push = 1'b0;
    endcase
  end

  assign busy_o = !(state_q == SIdle || (state_q == SDrain && wr_q == hd_q));

  always_ff @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      state_q <= SIdle;
      wr_q <= '0; req_q <= '0; rd_q <= '0; hd_q <= '0;
      rq_rd_q <= 1'b0; rq_wr_q <= 1'b0; inflight_q <= 1'b0; inflight_bm_q <= 1'b0; count_q <= '0;
      rd_rows_done_q <= '0; beat_q <= '0; seg_beat_q <= '0;
      left_q <= '0; bm_left_q <= '0; p1_walk_q <= 1'b0;
      b1_valid_q <= 1'b0; b2_valid_q <= 1'b0; flush_q <= '0; ptr_q <= '0; bits_q <= '0;
      blk_nz_q <= 1'b0; bm_waddr_q <= '0; rows_in_bmrow_q <= '0;
    end else begin
      if (start_i) begin
        addr_q        <= {h[3], h[2]};
        left_q        <= h[8][0] ? '0 : {h[5], h[4]} >> LogB;
        bm_left_q     <= h[8][0] ? {h[5], h[4]} >> LogB : '0;
        bm_addr_q     <= {h[17], h[16]};
        row0_q        <= RowAddrWidth'(h[7]);
        planes_q      <= h[9];
        rows_q        <= h[10];
        nwb_q         <= h[11];
        seg_beats_q   <= h[12];
        bh_q          <= h[13];
        plane_bytes_q <= {h[15], h[14]};
        bm_row_q      <= h[18];
        k_q           <= h[19];
        zp_q          <= h[20][7:0];
        valid_rows_q  <= h[21];
        w_q           <= h[22];
        eps_q         <= h[23][7:0];
        bpr_q         <= RowAddrWidth'(h[24]);
        kbpr_q        <= RowAddrWidth'(h[25]);
        rr_q          <= RowAddrWidth'(h[26]);
        bhrr_q        <= RowAddrWidth'(h[30]);
        state_q       <= h[8][0] ? SPass1 : SDense;
        p1_walk_q     <= h[8][0];
        cg_cb_q <= '0; pl_q <= '0; yb_q <= '0; y_hb_q <= '0; wb_q <= '0; sr_q <= '0;
        x_wb_q <= '0; x_sr_q <= '0;
        r_hb_q <= '0; r_cb_q <= '0; r_pl_q <= '0; r_yb_q <= '0; r_wb_q <= '0;
        bm_waddr_q <= '0; ptr_q <= '0; bits_q <= '0; rows_in_bmrow_q <= '0; blk_nz_q <= 1'b0;
      end else begin
        // ---------------- generator
        if (push) begin
          wr_q <= wr_q + 1'b1;
          if (state_q == SDense) begin
            addr_q <= addr_q + (burst << LogB);
            left_q <= left_q - burst;
            row0_q <= row0_q + RowAddrWidth'(burst >> $clog2(Wa / B));
          end
          if (state_q == SPass3) begin
            bm_addr_q  <= bm_addr_q + (burst << LogB);
            bm_left_q  <= bm_left_q - burst;
            bm_waddr_q <= bm_waddr_q + BmRowW'(burst);
          end
        end
        if (state_q == SDense && left_q == '0) state_q <= SDrain;
        if (state_q == SPass3 && bm_left_q == '0) state_q <= SDrain;
        if (state_q == SDrain && wr_q == hd_q) state_q <= SIdle;

        // ---------------- pass 1 walker (stage A)
        if (p1_a) begin
          b1_valid_q      <= 1'b1;
          b1_yvalid_q     <= (y_hb_q + yb_q < valid_rows_q);
          b1_nvw_q        <= (x_wb_q + x_sr_q >= w_q) ? 16'd0
                           : ((w_q - x_wb_q - x_sr_q > 16'(Wpr)) ? 16'(Wpr) : w_q - x_wb_q - x_sr_q);
          b1_last_blk_q   <= last_sr && last_yb && last_pl;
          b1_last_hbrow_q <= last_sr && last_yb && last_pl && last_wb && last_cb;
          if (!last_sr) begin
            sr_q <= sr_q + 16'd1;
            x_sr_q <= x_sr_q + 16'(Wpr);
          end else begin
            sr_q <= '0;
            x_sr_q <= '0;
            if (!last_yb) begin
              yb_q <= yb_q + 16'd1;
              r_yb_q <= r_yb_q + rr_q;
            end else begin
              yb_q <= '0;
              r_yb_q <= '0;
              if (!last_pl) begin
                pl_q <= pl_q + 16'd1;
                r_pl_q <= r_pl_q + bpr_q;
              end else begin
                pl_q <= '0;
                r_pl_q <= '0;
                if (!last_wb) begin
                  wb_q <= wb_q + 16'd1;
                  r_wb_q <= r_wb_q + RowAddrWidth'(seg_rows);
                  x_wb_q <= x_wb_q + bw;
                end else begin
                  wb_q <= '0;
                  r_wb_q <= '0;
                  x_wb_q <= '0;
                  if (!last_cb) begin
                    cg_cb_q <= cg_cb_q + k_q;
                    r_cb_q <= r_cb_q + kbpr_q;
                  end else begin
                    cg_cb_q <= '0;
                    r_cb_q <= '0;
                    if (!last_hb) begin
                      y_hb_q <= y_hb_q + bh_q;
                      r_hb_q <= r_hb_q + bhrr_q;
                    end else begin
                      p1_walk_q <= 1'b0;
                    end
                  end
                end
              end
            end
          end
        end else begin
          b1_valid_q <= 1'b0;
        end

        // ---------------- pass 1 stage B: block flags into the bitmap buffer
        if (b1_valid_q) blk_nz_q <= b1_last_blk_q ? 1'b0 : flag;
        if (bit_push) begin
          if (bit_row_full) begin
            bits_q <= '0;
            ptr_q  <= '0;
            bm_waddr_q <= bm_waddr_q + BmRowW'(1);
            rows_in_bmrow_q <= rows_in_bmrow_q + 16'd1;
          end else begin
            bits_q <= bits_with_push;
            ptr_q  <= ptr_q + BitPtrW'(1);
          end
          // the bitmap row ends: write what is left of it, then zero rows
          if (b1_last_hbrow_q) begin
            flush_q <= bm_rows_per_row - rows_in_bmrow_q - (bit_row_full ? 16'd1 : 16'd0);
            if (bm_rows_per_row == rows_in_bmrow_q + (bit_row_full ? 16'd1 : 16'd0)) rows_in_bmrow_q <= '0;
          end
        end else if (flushing) begin
          bits_q <= '0;
          ptr_q  <= '0;
          bm_waddr_q <= bm_waddr_q + BmRowW'(1);
          flush_q <= flush_q - 16'd1;
          if (flush_q == 16'd1) rows_in_bmrow_q <= '0;
          else rows_in_bmrow_q <= rows_in_bmrow_q + 16'd1;
        end
        if (p2_start) begin
          state_q    <= SPass2;
          bm_waddr_q <= '0;
        end

        // ---------------- pass 2 walker, as the decoder's
        if (a2_fire) begin
          b2_valid_q <= 1'b1;
          b2_sel_q   <= bit_idx[BitPtrW-1:0];
          b2_addr_q  <= seg_addr;
          b2_row_q   <= walk_row;
        end else if (b2_fire) begin
          b2_valid_q <= 1'b0;
        end
        if (state_q == SPass2 && !p2_walk && !b2_valid_q) state_q <= SPass3;

        // ---------------- requests
        if (req_valid_o && req_ready_i) req_q <= req_q + 1'b1;

        // ---------------- row reader
        if (rd_issue) begin
          if (rd_rows_done_q == rd_seg_rows - 16'd1) begin
            rd_rows_done_q <= '0;
            rd_q <= rd_q + 1'b1;
          end else begin
            rd_rows_done_q <= rd_rows_done_q + 16'd1;
          end
        end
        inflight_q    <= rd_issue;
        inflight_bm_q <= rd_seg_bm;
        if (inflight_q) rq_wr_q <= ~rq_wr_q;
        if (row_consumed) rq_rd_q <= ~rq_rd_q;
        count_q <= count_q + (inflight_q ? 2'd1 : 2'd0) - (row_consumed ? 2'd1 : 2'd0);

        // ---------------- beats
        if (beat_fire) begin
          beat_q     <= row_consumed ? '0 : beat_q + BeatIdxWidth'(1);
          seg_beat_q <= seg_done ? '0 : seg_beat_q + 16'd1;
          if (seg_done) hd_q <= hd_q + 1'b1;
        end
      end
    end
  end

  always_ff @(posedge clk_i) begin
    if (inflight_q) begin
      queue_q[rq_wr_q]    <= inflight_bm_q ? (Wa*8)'(bm_rdata) : rdata_i;
      queue_bm_q[rq_wr_q] <= inflight_bm_q;
    end
  end

  assign bm_we    = bit_row_full || flushing;
  assign bm_wdata = bit_row_full ? bits_with_push : bits_q;
endmodule
